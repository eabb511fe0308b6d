{{ dora_metrics('week', by_team=true) }}
