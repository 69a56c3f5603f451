//! PostgreSQL store for Alto (in progress).
