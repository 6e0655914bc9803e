from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.access import IsMemberOrApiKey


class FloorApi(APIView):
    """The benchmark's floor: same middleware, and no authentication, permission or throttle at all.

    What a DRF view costs on this stack before any of our shared API path runs; every
    other endpoint is reported as a ratio to it.
    """

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def post(self, request):
        return Response({"allowed": True, "remaining": 1})

    def get(self, request):  # page-like benchmarks (bench/marketplace.py) read it with GET
        return Response({"allowed": True, "remaining": 1})


class ReferenceApi(APIView):
    """The API-key reference: the floor plus the API's authentication, permission and throttles."""

    permission_classes = [IsMemberOrApiKey]

    def post(self, request):
        return Response({"allowed": True, "remaining": 1})


class JwtReferenceApi(APIView):
    """The JWT reference: the floor plus a person's JWT (session family checked), IsAuthenticated
    and the API's default throttles, as every JWT API read pays."""

    permission_classes = [IsAuthenticated]

    def post(self, request):
        return Response({"allowed": True, "remaining": 1})
