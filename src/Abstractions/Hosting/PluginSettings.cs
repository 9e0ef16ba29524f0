using Microsoft.Extensions.Configuration;

namespace Compose.Hosting;

/// <summary>The keys Compose itself reads from a plugin's section <c>Compose:Plugins:{id}</c>; every other key is the plugin's.</summary>
internal static class PluginSettings
{
    public const string EnabledKey = "Enabled";
    public const string EnvironmentsKey = "Environments";
    public const string AuthorizationPolicyKey = "AuthorizationPolicy";
    public const string InitTimeoutKey = "InitTimeout";

    /// <summary>The ids that have a section under <c>Compose:Plugins</c> in any configuration source, case-insensitive.</summary>
    public static HashSet<string> ConfiguredIds(IConfiguration pluginsSection)
        => new(pluginsSection.GetChildren().Select(child => child.Key), StringComparer.OrdinalIgnoreCase);

    /// <summary><c>Enabled</c>, default true (Mattermost's per-plugin enable).</summary>
    public static bool IsEnabled(IConfiguration section) => ComposeOptions.ReadBoolean(section, EnabledKey) ?? true;

    /// <summary>
    /// Whether the plugin is meant for this host environment: the section's <c>Environments</c> (a comma-separated
    /// string or an array) when present, else the attribute's; none listed means every environment.
    /// </summary>
    /// <param name="descriptor">The plugin.</param>
    /// <param name="section">The plugin's section, or null when configuration has none for it.</param>
    /// <param name="environment">The host's environment name.</param>
    public static bool AllowsEnvironment(ServerPluginDescriptor descriptor, IConfiguration? section, string environment)
    {
        IEnumerable<string> allowed = descriptor.Environments;
        if (section?.GetSection(EnvironmentsKey) is { } configured)
        {
            if (configured.Value is { } list)
            {
                allowed = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }
            else if (configured.GetChildren().Select(child => child.Value ?? string.Empty).Where(value => value.Length > 0).ToList() is { Count: > 0 } items)
            {
                allowed = items;
            }
        }

        var any = false;
        foreach (var name in allowed)
        {
            if (name == "*" || string.Equals(name, environment, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            any = true;
        }

        return !any;
    }

    /// <summary><c>InitTimeout</c>: this plugin's bound on InitAsync, or null for the host-wide <c>Compose:InitTimeout</c>.</summary>
    /// <exception cref="InvalidOperationException">The value is not a positive time span.</exception>
    public static TimeSpan? InitTimeout(IConfiguration section) => ComposeOptions.ReadTimeSpan(section, InitTimeoutKey);

    /// <summary><c>AuthorizationPolicy</c>: a named policy every route of the plugin requires, or null.</summary>
    public static string? AuthorizationPolicy(IConfiguration section)
        => section[AuthorizationPolicyKey] is { Length: > 0 } policy ? policy.Trim() : null;
}
