"""Input serializers that refuse what they do not know.

A field the API does not take is a client's mistake, and where money moves a silent
ignore is dangerous: `{"amount": 100, "currency": "eur"}` on a refund of a USD purchase
refunded one dollar. Unknown fields are a 400 in the error shape, naming each one.
"""

from collections.abc import Mapping

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(name for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: ["This field is not accepted here."] for name in unknown})
        return super().to_internal_value(data)
