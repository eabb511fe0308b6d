{#- A CI tool's run / job outcome in our build vocabulary: success, failure, cancelled, skipped, in_progress.
    `tool` is `github_actions` (a `conclusion`, NULL while running) or `gitlab` (a pipeline or job `status`). -#}
{% macro ci_status(tool, column) -%}
    {%- if tool == 'github_actions' -%}
    case
        when {{ column }} is null then 'in_progress'
        when {{ column }} = 'success' then 'success'
        when {{ column }} in ('failure', 'timed_out', 'startup_failure') then 'failure'
        when {{ column }} = 'cancelled' then 'cancelled'
        else 'skipped'
    end
    {%- elif tool == 'gitlab' -%}
    case
        when {{ column }} = 'success' then 'success'
        when {{ column }} = 'failed' then 'failure'
        when {{ column }} in ('canceled', 'canceling') then 'cancelled'
        when {{ column }} in ('skipped', 'manual') then 'skipped'
        else 'in_progress'
    end
    {%- else -%}
    {{ exceptions.raise_compiler_error("ci_status: unknown tool " ~ tool) }}
    {%- endif -%}
{%- endmacro %}
