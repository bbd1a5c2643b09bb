#![allow(dead_code)]
//! The system tests' helpers: the test system of the test kit under its short names, request
//! bodies and the problem+json check.

use serde_json::Value;

pub use testkit::system::{
    register_body, spawn as spawn_app, start_api_with, test_config, TestSystem as App,
};

/// Every response that is an error must be problem+json with the documented fields.
pub fn assert_problem(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
}
