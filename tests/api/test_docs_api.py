"""/docs works with no internet (Swagger UI from the package) and has an Authorize button
(the OpenAPI declares how to authenticate); public routes say they need nothing."""
from __future__ import annotations

import httpx
from playwright.sync_api import sync_playwright

from scripts.screenshots import ARGS, CHROMIUM


def test_openapi_declares_the_ways_to_authenticate(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert schema["security"] == [{"bearer": []}, {"apiKey": []}]
    assert schema["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert schema["paths"]["/healthz"]["get"]["security"] == []
    assert "security" not in schema["paths"]["/api/v1/alerts"]["get"]   # the global one


def test_docs_render_offline_with_an_authorize_button(http: httpx.Client, api_base: str) -> None:
    page_html = http.get("/docs").text
    assert "cdn" not in page_html.lower() and "/static-offline-docs/swagger-ui-bundle.js" in page_html
    assert http.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith(api_base) else None)
        page.goto(api_base + "/docs")
        page.get_by_role("button", name="Authorize").wait_for(timeout=20_000)
        assert page.get_by_text("/api/v1/alerts").first.is_visible()
        browser.close()
    assert outside == []                      # nothing fetched from anywhere else
