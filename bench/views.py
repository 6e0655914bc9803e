from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.access import IsMemberOrApiKey


class ReferenceApi(APIView):
    """The benchmark's reference: same middleware, authentication and permission, no work of its own."""

    permission_classes = [IsMemberOrApiKey]

    def post(self, request):
        return Response({"allowed": True, "remaining": 1})


class FloorApi(APIView):
    """The floor (BENCHMARKS.md): same middleware, no authentication, permission, throttle or database."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def get(self, request):
        return Response({"ok": True})
