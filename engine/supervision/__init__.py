"""Supervision (督办): the dashboard and stuck reasons, the heatmap and charts, supervisors' actions."""
