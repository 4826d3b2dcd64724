"""Edges to other systems: how Accolade tells hosts what happened (webhooks over HTTP)."""
