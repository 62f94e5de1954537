"""Workstation tests: real Qt widgets (offscreen), real key presses and clicks."""
