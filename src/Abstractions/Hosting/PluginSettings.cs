using Microsoft.Extensions.Configuration;

namespace Compose.Hosting;

/// <summary>The keys Compose itself reads from a plugin's section <c>Compose:Plugins:{id}</c>; every other key is the plugin's.</summary>
internal static class PluginSettings
{
    public const string EnabledKey = "Enabled";
    public const string EnvironmentsKey = "Environments";
    public const string AuthorizationPolicyKey = "AuthorizationPolicy";

    /// <summary><c>Enabled</c>, default true (Mattermost's per-plugin enable).</summary>
    public static bool IsEnabled(IConfiguration section) => ComposeOptions.ReadBoolean(section, EnabledKey) ?? true;

    /// <summary>
    /// Whether the plugin is meant for this host environment: the section's <c>Environments</c> (a comma-separated
    /// string or an array) when present, else the attribute's; none listed means every environment.
    /// </summary>
    public static bool AllowsEnvironment(ServerPluginDescriptor descriptor, IConfiguration section, string environment)
    {
        var configured = section.GetSection(EnvironmentsKey);
        IEnumerable<string> allowed = configured.Value is { } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : configured.GetChildren().Select(child => child.Value ?? string.Empty).Where(value => value.Length > 0).ToList() is { Count: > 0 } items
                ? items
                : descriptor.Environments;
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

    /// <summary><c>AuthorizationPolicy</c>: a named policy every route of the plugin requires, or null.</summary>
    public static string? AuthorizationPolicy(IConfiguration section)
        => section[AuthorizationPolicyKey] is { Length: > 0 } policy ? policy.Trim() : null;
}
