//! Embedded SQLite store for Alto (in progress).
