//! HTTP client and wire models for the Google Gemini Developer API (v1beta).
