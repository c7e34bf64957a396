//! What operators watch: log lines (`logs`) and Prometheus metrics (`metrics`).

pub mod logs;
pub mod metrics;

pub use logs::init;
