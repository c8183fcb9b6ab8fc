"""Developer and CI tooling: the local stack launcher and throwaway PostgreSQL/Redis."""
