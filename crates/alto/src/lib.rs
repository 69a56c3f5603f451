//! Alto facade (in progress).
