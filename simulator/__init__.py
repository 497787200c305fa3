"""Local stand-ins for WhatsApp: the Graph API fake and the two-phone simulator."""
