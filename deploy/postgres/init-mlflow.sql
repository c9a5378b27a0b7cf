-- MLflow's backend store lives beside nivesh-ml's database in the same server.
CREATE DATABASE mlflow OWNER nivesh;
