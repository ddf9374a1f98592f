"""Green-API, hosted WhatsApp: send, instance state, groups from the contact list."""
