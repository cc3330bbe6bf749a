"""The container port (`port`), its docker-SDK adapter (`docker`) and the one image builder
(`images`): what build and smoke run containers and build images through.
"""
