{#- GitHub Copilot usage reports: the feature groups and IDE families the AI marts count, and the group-size rule. -#}

{#- `totals_by_feature[].feature` → completion | chat | agent | other (the CLI is reported apart, in `used_cli`). -#}
{% macro copilot_feature_group(feature) -%}
    case
        when {{ feature }} = 'code_completion' then 'completion'
        when {{ feature }} in ('agent_edit', 'chat_panel_agent_mode', 'chat_panel_custom_mode') then 'agent'
        when {{ feature }} like 'chat%' then 'chat'
        else 'other'
    end
{%- endmacro %}

{#- `totals_by_ide[].ide` → vscode | jetbrains | other. -#}
{% macro copilot_ide_family(ide) -%}
    case
        when lower({{ ide }}) like '%vscode%' or lower({{ ide }}) like '%visual studio code%' then 'vscode'
        when lower({{ ide }}) in ('intellij', 'jetbrains', 'pycharm', 'webstorm', 'goland', 'rider', 'phpstorm',
                                  'clion', 'rubymine', 'android studio') or lower({{ ide }}) like '%jetbrains%'
            then 'jetbrains'
        else 'other'
    end
{%- endmacro %}

{#- A cell built from `people` people: its `value`, or NULL when fewer than var `min_group_size` people. -#}
{% macro suppress_small(value, people) -%}
    case when {{ people }} >= {{ var('min_group_size') }} then {{ value }} end
{%- endmacro %}
