"""The people who use the console: their accounts and roles, sign-in, and sessions."""
