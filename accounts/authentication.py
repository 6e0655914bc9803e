"""DRF authentication: JWT bound to a revocable session family, and API keys."""

from functools import lru_cache, partial

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import ApiKey
from accounts.services.api_keys import api_key_authenticate, api_key_parse_prefix
from accounts.services.jwt_cache import jwt_caller_get
from accounts.services.sessions import auth_session_use
from accounts.services.tokens import FAMILY_CLAIM
from accounts.throttling import api_key_ident
from common.cache_prefetch import cache_prefetch_keys, cache_prefetched_keep
from common.throttling import read_and_count, window_throttle_keys


class JWTFamilyAuthentication(JWTAuthentication):
    """simplejwt's JWT check, plus: the token's session family must not be revoked.

    Tokens from /api/v1/auth/token/ carry a `family` claim naming their AuthSession;
    logout, revoking the session, or reuse of a rotated refresh token revoke it, and
    from then on its access tokens are refused too. The session and its user come from
    the cache (`accounts.services.jwt_cache`: never older than the last change to either),
    read in the one round trip that also counts the caller's rate limits; the user's
    checks are simplejwt's (active, password unchanged since the token was issued).
    Tokens minted by server code without a family (e.g. RefreshToken.for_user in
    tests) are not tied to a device, are only bound by their expiry, and read the user
    from the database as simplejwt does.
    """

    def authenticate(self, request):
        self._request = request
        return super().authenticate(request)

    def get_validated_token(self, raw_token: bytes):
        """simplejwt's check, done once per process for a given token; its expiry is checked on every use.

        Decoding and verifying the signature is most of a JWT request's own CPU, and an SDK or
        a page sends the same access token for its 15 minutes. Only tokens that passed are
        remembered (by their exact bytes, at most `_VERIFIED_TOKENS` of them); revocation is
        the session family's check in `get_user`, made on every request as before.
        """
        token = _verified_token(bytes(raw_token))
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            return super().get_validated_token(raw_token)  # expired now: simplejwt's error, worded as always
        return token

    def get_user(self, validated_token):
        family = validated_token.get(FAMILY_CLAIM)
        if not family:
            return super().get_user(validated_token)
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        caller = jwt_caller_get(family=family, user_id=user_id, cache_read=self._cache_read(user_id))
        if caller is None or caller.revoked:
            raise exceptions.AuthenticationFailed("This session was signed out.", code="session_revoked")
        if jwt_settings.CHECK_USER_IS_ACTIVE and not caller.user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive", code="user_inactive")
        if jwt_settings.CHECK_REVOKE_TOKEN and (
            validated_token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != caller.password_fingerprint
        ):
            raise exceptions.AuthenticationFailed("The user's password has been changed.", code="password_changed")
        auth_session_use(session_id=caller.session_id, family=family)
        return caller.user

    def _cache_read(self, user_id):
        """The cache read that also raises the view's rate-limit counters for this user (one round trip)."""
        request = getattr(self, "_request", None)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if view is None:
            return None
        windows = window_throttle_keys(request, view, ident=f"user:{user_id}")
        return partial(_read_and_count, request=request, windows=windows) if windows else None


class ApiKeyPrincipal(AnonymousUser):
    """request.user for API-key requests: the organization's machine, not a person.

    It is deliberately *not* authenticated in Django's sense (it subclasses
    AnonymousUser) so a key never gains what the person who created it may do:
    endpoints that serve machines opt in with the `HasApiKey` permission and read the
    organization from `request.auth.organization` (request.auth is the ApiKey).
    """

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.organization = api_key.organization

    def __str__(self):
        return f"API key {self.api_key.prefix}"


class CsrfFailed(exceptions.PermissionDenied):
    default_code = "csrf_failed"
    default_detail = "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header."


class BrowserSessionCsrf(authentication.SessionAuthentication):
    """Last in the list of a view that serves signed-out visitors from their browser session.

    DRF's SessionAuthentication checks CSRF only for a signed-in user; a visitor whose
    session holds what the view acts on (the tutor's conversations and quota) would
    otherwise be open to cross-site posts. A request reaches this class only when no JWT
    or API key authenticated it, so those clients are unaffected; an unsafe request here
    needs the CSRF token (403 `csrf_failed`), and nobody is authenticated by it.
    """

    def authenticate(self, request):
        try:
            self.enforce_csrf(request)
        except exceptions.PermissionDenied as error:
            raise CsrfFailed(f"{CsrfFailed.default_detail} ({error.detail})") from None
        return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key plt_<prefix>_<secret>`.

    Sets request.user to an ApiKeyPrincipal and request.auth to the ApiKey. Unknown,
    revoked and expired keys get 401. See ApiKeyPrincipal for why request.user is not
    the key's creator.
    """

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw_key = raw_key.strip()
        if not raw_key or " " in raw_key:
            raise exceptions.AuthenticationFailed("Malformed Api-Key header.")
        api_key = api_key_authenticate(raw_key=raw_key, cache_read=self._cache_read(request, raw_key))
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return self.keyword

    @staticmethod
    def _cache_read(request, raw_key: str):
        """The key's cache read that also raises the view's rate-limit counters for this key (one round trip)."""
        prefix = api_key_parse_prefix(raw_key)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if prefix is None or view is None:
            return None
        windows = window_throttle_keys(request, view, ident=api_key_ident(prefix))
        return partial(_read_and_count, request=request, windows=windows) if windows else None


_VERIFIED_TOKENS = 4096


@lru_cache(maxsize=_VERIFIED_TOKENS)
def _verified_token(raw_token: bytes):
    """A token that passed simplejwt's checks (an invalid one raises, and is not remembered)."""
    return JWTAuthentication().get_validated_token(raw_token)


def _read_and_count(read: list[str], *, request, windows: dict[str, int]) -> dict:
    """The caller's cache read and rate-limit counters, with what the view asked to prefetch, in one round trip."""
    prefetch = cache_prefetch_keys(request, (getattr(request, "parser_context", None) or {}).get("view"))
    values = read_and_count(cache, read=[*read, *prefetch], request=request, windows=windows)
    if prefetch:
        cache_prefetched_keep(request, prefetch, values)
    return values


class HasApiKey(BasePermission):
    """The request was made with a valid API key (optionally holding `required_scopes` of the view)."""

    message = "This endpoint needs an API key with the required scopes."

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return False
        required = set(getattr(view, "required_scopes", ()))
        return required.issubset(request.auth.scopes or [])


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key plt_<prefix>_<secret>` (created on /settings/api-keys/).",
        }


class JWTFamilyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTFamilyAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class BrowserSessionCsrfScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BrowserSessionCsrf"
    name = "csrfToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": "A signed-out browser session: the `csrftoken` cookie's value, on POST, PATCH, DELETE.",
        }
