-- Prefect's server keeps its own database beside the application's.
CREATE DATABASE prefect OWNER accelerator;
