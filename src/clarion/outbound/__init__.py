"""Connections the server opens to the outside (webhook receivers, language-model providers):
the address guard every one of them passes, and the one allow-list that opens chosen ranges."""
