//! Plans, the DAG scheduler, workflows and durable runs.
