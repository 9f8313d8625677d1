"""The contract's searches: interactions with their logs, and errors."""
