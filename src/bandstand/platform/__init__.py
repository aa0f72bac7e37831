"""The platform kernel shared by every Bandstand service."""
