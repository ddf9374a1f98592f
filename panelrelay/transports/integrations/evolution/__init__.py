"""Evolution API (Baileys), self-hosted WhatsApp: send, connection state, groups."""
