"""The pages people open in a browser: the member portal (web/portal) and, next, the admin
console. Server-rendered from the same service functions as the API; mounted by its app."""
