"""Media made from the content: pictures of the positions (Pillow). No Telegram, no storage."""
