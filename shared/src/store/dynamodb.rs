//! STUB: implemented by the DynamoDB work package.
