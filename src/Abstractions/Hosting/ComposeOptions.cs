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

    /// <summary>The default <see cref="InitTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultInitTimeout = TimeSpan.FromSeconds(30);

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
    /// Gets or sets how long a plugin's <see cref="IServerPlugin.InitAsync"/> task may take, counted from the call.
    /// A plugin that has not finished by then is marked <see cref="ServerPluginState.Failed"/> ("did not finish
    /// InitAsync within 00:00:30"), its cancellation token is signalled, its routes answer 503, and the host starts
    /// with the others (or refuses to start under <see cref="FailFast"/>). Default 30 seconds; one plugin can override
    /// it with <c>Compose:Plugins:{id}:InitTimeout</c>. Mirrors the generic host's <c>StartupTimeout</c>, per plugin.
    /// </summary>
    public TimeSpan InitTimeout { get; set; } = DefaultInitTimeout;

    /// <summary>
    /// Gets or sets whether an unhandled exception from a plugin's endpoint becomes a 500
    /// <c>application/problem+json</c> response naming the plugin (no exception text in the body), logged once with
    /// the plugin id and the request path. Default <see langword="true"/>. Never applies in the Development
    /// environment, where exceptions propagate to the developer exception page (ASP.NET Core's convention). Set it to
    /// <see langword="false"/> when the host handles exceptions itself (<c>UseExceptionHandler</c>,
    /// <c>IExceptionHandler</c>), so its handler sees them.
    /// </summary>
    public bool HandleExceptions { get; set; } = true;

    /// <summary>
    /// Gets or sets the delay before the first restart of a plugin's hosted service that crashed; each further crash
    /// within <see cref="CrashWindow"/> doubles it (exponential back-off, capped at 5 minutes). Default 1 second.
    /// </summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many crashes of a plugin's hosted services within <see cref="CrashWindow"/> fail the plugin:
    /// its hosted services stay stopped and its routes answer 503. Default 3, within 60 minutes: Mattermost's rule
    /// for crashed plugins.
    /// </summary>
    public int MaxCrashes { get; set; } = 3;

    /// <summary>Gets or sets the window <see cref="MaxCrashes"/> is counted in. Default 60 minutes (Mattermost's rule).</summary>
    public TimeSpan CrashWindow { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// Gets or sets whether the conventions added to the group <c>MapServerPlugins()</c> returns (for example
    /// <c>RequireAuthorization()</c>) also apply to the catalog (<c>MapServerPluginCatalog()</c>) and to the plugins'
    /// web assets. Default <see langword="true"/>: one call protects all three. <see langword="false"/> is the explicit
    /// opt-out: the catalog and the assets are then mapped on their own, and only conventions added to them apply.
    /// </summary>
    public bool ShareConventions { get; set; } = true;

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
        options.HandleExceptions = ReadBoolean(section, nameof(HandleExceptions)) ?? options.HandleExceptions;
        options.ShareConventions = ReadBoolean(section, nameof(ShareConventions)) ?? options.ShareConventions;
        options.InitTimeout = ReadTimeSpan(section, nameof(InitTimeout)) ?? options.InitTimeout;
        options.RestartDelay = ReadTimeSpan(section, nameof(RestartDelay)) ?? options.RestartDelay;
        options.CrashWindow = ReadTimeSpan(section, nameof(CrashWindow)) ?? options.CrashWindow;
        if (section[nameof(MaxCrashes)] is { } maxCrashes && !string.IsNullOrWhiteSpace(maxCrashes))
        {
            options.MaxCrashes = int.TryParse(maxCrashes, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
                ? count
                : throw new InvalidOperationException($"Configuration key '{Path(section, nameof(MaxCrashes))}' must be a positive whole number such as 3, not '{maxCrashes}'.");
        }

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

        options.ExitTimeout = ReadTimeSpan(section, nameof(ExitTimeout)) ?? options.ExitTimeout;
        return options;
    }

    /// <summary>Reads a positive time span (<c>00:00:10</c>); null when the key is absent or blank.</summary>
    /// <exception cref="InvalidOperationException">The value is not a positive time span; the message names the key.</exception>
    internal static TimeSpan? ReadTimeSpan(IConfiguration section, string key)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
            ? span
            : throw new InvalidOperationException($"Configuration key '{Path(section, key)}' must be a positive time span such as 00:00:10, not '{value}'.");
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
