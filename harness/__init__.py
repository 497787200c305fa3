"""What tests and benches share to run Posta for real: its servers, and WhatsApp phones that talk to them."""
