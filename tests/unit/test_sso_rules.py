"""SSO claims to users and roles (core/sso.py), pure parts."""
from __future__ import annotations

import pytest

from core.errors import AuthError, FieldError
from core.sso import SsoConfig, parse_roles, role_for, username_for

CFG = SsoConfig("http://idp/.well-known/openid-configuration", "id", "secret",
                parse_roles("noc-admins=admin, noc-operators=operator ,*=viewer"))


def test_roles_are_read_in_order_and_bad_entries_name_the_setting() -> None:
    assert CFG.roles == (("noc-admins", "admin"), ("noc-operators", "operator"), ("*", "viewer"))
    for bad in ("noc=root", "=admin", "noc-admins"):
        with pytest.raises(FieldError) as err:
            parse_roles(bad)
        assert err.value.field == "ALERTDESK_OIDC_ROLES"


def test_first_matching_group_wins_and_star_matches_anyone() -> None:
    assert role_for({"groups": ["staff", "noc-operators", "noc-admins"]}, CFG) == "admin"
    assert role_for({"groups": "noc-operators"}, CFG) == "operator"
    assert role_for({"groups": []}, CFG) == "viewer"
    strict = SsoConfig("u", "i", "s", parse_roles("noc-operators=operator"))
    assert role_for({"groups": ["guests"]}, strict) is None
    assert role_for({}, strict) is None


def test_username_comes_from_the_claim_lower_cased() -> None:
    assert username_for({"email": "Alice@Example.TEST"}, CFG) == "alice@example.test"
    with pytest.raises(AuthError):
        username_for({"email": "not a name"}, CFG)
    with pytest.raises(AuthError):
        username_for({}, CFG)


def test_sso_is_off_unless_configured() -> None:
    assert SsoConfig.from_env({}) is None
    on = SsoConfig.from_env({"ALERTDESK_OIDC_METADATA_URL": "u", "ALERTDESK_OIDC_CLIENT_ID": "i",
                             "ALERTDESK_OIDC_CLIENT_SECRET": "s", "ALERTDESK_OIDC_NAME": "Okta"})
    assert on is not None and on.name == "Okta" and on.roles == ()
