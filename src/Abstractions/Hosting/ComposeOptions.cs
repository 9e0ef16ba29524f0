using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Compose;

/// <summary>
/// Host-wide settings of the plugin composition, read from the <c>Compose</c> configuration section
/// (keys are case-insensitive; environment variables such as <c>Compose__Enabled=false</c> work).
/// </summary>
/// <remarks>
/// <see cref="Enabled"/> mirrors SillyTavern's <c>enableServerPlugins</c> switch; the per-plugin
/// <c>Compose:Plugins:{id}:Enabled</c> key mirrors Mattermost's <c>PluginSettings</c>.
/// </remarks>
public sealed class ComposeOptions
{
    /// <summary>The configuration section the options are read from: <c>Compose</c>.</summary>
    public const string SectionName = "Compose";

    /// <summary>The default route prefix: <c>/api/plugins</c>, as in Luker and SillyTavern.</summary>
    public const string DefaultRoutePrefix = "/api/plugins";

    /// <summary>
    /// Gets or sets whether any plugin is composed. <see langword="false"/> registers no plugin service and
    /// maps no plugin route. Default <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets the prefix every plugin's route group is mounted under. Default <c>/api/plugins</c>.</summary>
    public string RoutePrefix { get; set; } = DefaultRoutePrefix;

    /// <summary>
    /// Gets or sets the prefix a plugin's static web assets are served under: <c>{AssetsPrefix}/{id}/{path}</c>.
    /// Default <c>/plugins</c>.
    /// </summary>
    public string AssetsPrefix { get; set; } = "/plugins";

    /// <summary>
    /// Gets or sets how long one plugin's <see cref="IServerPlugin.ExitAsync"/> may run at shutdown before the
    /// host moves on to the next plugin. <see langword="null"/> (the default) uses the host's
    /// <c>HostOptions.ShutdownTimeout</c>.
    /// </summary>
    public TimeSpan? ExitTimeout { get; set; }

    /// <summary>
    /// Gets or sets whether a plugin whose initialisation fails stops the host from starting (the start-up
    /// exception names the plugin). Default <see langword="false"/>: the plugin is marked failed, its routes answer
    /// 503, and the other plugins keep serving.
    /// </summary>
    public bool FailFast { get; set; }

    /// <summary>
    /// Gets or sets the folder under which each plugin gets its data directory (<c>{DataRoot}/{id}</c>).
    /// <see langword="null"/> (the default) means <c>App_Data/plugins</c> under the host's content root; a relative
    /// path is taken from the content root.
    /// </summary>
    public string? DataRoot { get; set; }

    /// <summary>Reads the options from a <c>Compose</c> configuration section; absent keys keep their defaults.</summary>
    /// <param name="section">The <c>Compose</c> section (or any section with the same keys).</param>
    /// <returns>The options.</returns>
    /// <exception cref="InvalidOperationException">A key holds a value of the wrong format; the message names the key.</exception>
    public static ComposeOptions FromConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = new ComposeOptions();
        options.Enabled = ReadBoolean(section, nameof(Enabled)) ?? options.Enabled;
        options.FailFast = ReadBoolean(section, nameof(FailFast)) ?? options.FailFast;
        var prefix = section[nameof(RoutePrefix)];
        if (!string.IsNullOrWhiteSpace(prefix))
        {
            options.RoutePrefix = prefix.Trim();
        }

        if (section[nameof(AssetsPrefix)] is { } assetsPrefix && !string.IsNullOrWhiteSpace(assetsPrefix))
        {
            options.AssetsPrefix = assetsPrefix.Trim();
        }

        if (section[nameof(DataRoot)] is { Length: > 0 } dataRoot)
        {
            options.DataRoot = dataRoot.Trim();
        }

        var exitTimeout = section[nameof(ExitTimeout)];
        if (!string.IsNullOrWhiteSpace(exitTimeout))
        {
            options.ExitTimeout = TimeSpan.TryParse(exitTimeout, CultureInfo.InvariantCulture, out var timeout) && timeout > TimeSpan.Zero
                ? timeout
                : throw new InvalidOperationException($"Configuration key '{Path(section, nameof(ExitTimeout))}' must be a positive time span such as 00:00:10, not '{exitTimeout}'.");
        }

        return options;
    }

    internal static bool? ReadBoolean(IConfiguration section, string key)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return bool.TryParse(value.Trim(), out var result)
            ? result
            : throw new InvalidOperationException($"Configuration key '{Path(section, key)}' must be true or false, not '{value}'.");
    }

    private static string Path(IConfiguration section, string key)
        => section is IConfigurationSection s ? ConfigurationPath.Combine(s.Path, key) : key;
}
