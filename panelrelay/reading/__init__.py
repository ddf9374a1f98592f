"""Reading text: order ids and a command from what people type, a refill period from a service name.

A bottom layer beside `core`: plain functions over strings, with no database, no HTTP and no
Django, so every app may call them (the import-linter contract "reading is pure" in pyproject.toml
keeps it so).

- `orderids`: ids typed by staff (Forward page, API, Find order): whole tokens, or refused by name.
- `ids`: order ids in free text (tickets, team-bot messages): doubtful runs are left out.
- `words`: folding and keyword phrases in any script.
- `parser`: the ids and the command of a support ticket or a team-bot message.
- `guarantee`: the refill period a service name states, and whether a refill is still allowed.
"""
