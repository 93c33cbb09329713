"""Lesson 3: the local git practice repository and its reference solution."""
