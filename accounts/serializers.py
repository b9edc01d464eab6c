"""Serializers of people, shared by every app's API."""

from rest_framework import serializers

from .models import User


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]
