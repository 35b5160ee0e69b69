//! STUB: implemented by the secrets work package.
