"""Test harness: loopback upstream server, moto S3, fault proxy, Docker helpers."""
