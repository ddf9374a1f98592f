"""WAHA, the self-hosted WhatsApp HTTP API: send, session status with its QR code, groups."""
