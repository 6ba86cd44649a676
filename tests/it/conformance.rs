//! Conformance against ../shared/vectors.
