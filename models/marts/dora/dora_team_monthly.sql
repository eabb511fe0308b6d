{{ dora_metrics('month', by_team=true) }}
