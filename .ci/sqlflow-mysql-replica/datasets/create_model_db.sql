-- Replica of the image's create_model_db.sql: the database SQLFlow saves trained models into.
CREATE DATABASE IF NOT EXISTS sqlflow_models;
