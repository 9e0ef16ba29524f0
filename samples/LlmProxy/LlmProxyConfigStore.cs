using System.Text.Json;
using Compose;
using Compose.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmProxy;

/// <summary>
/// The plugin's server-side credentials (Luker's "Credential Storage": the key never leaves the server), kept under
/// the key <c>config</c> of the plugin store (<see cref="IServerPluginContext.Store"/>), so that every replica of a
/// host sharing a store backend (<c>Compose.PostgreSql</c>) serves <c>/status</c> and <c>/chat</c> after one
/// <c>POST /config</c> on any of them. Every request reads the store: nothing is cached per replica.
/// </summary>
/// <remarks>
/// <para>
/// Where it lives: with a shared backend, in that backend. Without one, in the embedded file store (one file per
/// entry, written atomically, <c>0600</c> in a <c>0700</c> folder on Unix, read through <see cref="SafePath.OpenRead"/>)
/// under the plugin's data directory, or under <see cref="LlmProxyOptions.DataDirectory"/> when that is set (so a
/// host that pointed it at a persistent volume keeps its configuration there).
/// </para>
/// <para>
/// Earlier versions kept the configuration in <c>config.json</c> in that folder. At start-up an existing
/// <c>config.json</c> is imported into the store (only if the store holds no configuration yet: a replica with an
/// old file never overwrites a newer one) and renamed to <c>config.json.migrated</c> (<c>0600</c>), so nothing is lost
/// and a rollback can rename it back. A file whose values <c>POST /config</c> would refuse is logged and left alone.
/// </para>
/// </remarks>
public sealed class LlmProxyConfigStore
{
    /// <summary>The store key of the configuration.</summary>
    public const string Key = "config";

    /// <summary>The file earlier versions kept the configuration in, imported at start-up.</summary>
    public const string LegacyFileName = "config.json";

    /// <summary>What <see cref="LegacyFileName"/> is renamed to once imported.</summary>
    public const string MigratedFileName = "config.json.migrated";

    private readonly ILogger<LlmProxyConfigStore> _logger;
    private string? _lastRejection;

    /// <summary>Creates the store.</summary>
    /// <param name="options">The plugin's settings; <see cref="LlmProxyOptions.DataDirectory"/> overrides the folder of the file store and of <c>config.json</c>.</param>
    /// <param name="context">The plugin's context: its store, and by default its data directory.</param>
    /// <param name="logger">Logs imports and configurations that are refused.</param>
    /// <param name="backend">The host's shared store backend, if any (then the configuration lives there).</param>
    public LlmProxyConfigStore(
        IOptions<LlmProxyOptions> options,
        [FromKeyedServices(LlmProxyPlugin.Id)] IServerPluginContext context,
        ILogger<LlmProxyConfigStore> logger,
        PluginStoreBackend? backend = null)
    {
        _logger = logger;
        var directory = options.Value.DataDirectory;
        FolderPath = directory is { Length: > 0 } ? Path.GetFullPath(directory) : context.DataDirectory;
        Store = directory is { Length: > 0 } && backend is null ? new FilePluginStore(LlmProxyPlugin.Id, FolderPath) : context.Store;
    }

    /// <summary>Gets the folder of <c>config.json</c> (and of the file store, without a shared backend).</summary>
    public string FolderPath { get; }

    /// <summary>Gets the full path of the <c>config.json</c> of earlier versions.</summary>
    public string LegacyPath => Path.Combine(FolderPath, LegacyFileName);

    /// <summary>Gets the store the configuration lives in.</summary>
    public IPluginStore Store { get; }

    /// <summary>
    /// Reads the current configuration: <see langword="null"/> when none was saved, or when the stored value is not a
    /// configuration <c>POST /config</c> would accept (logged once per stored version and reason).
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The configuration, or <see langword="null"/>.</returns>
    /// <exception cref="PluginStoreUnavailableException">The store's backend cannot be reached.</exception>
    public async Task<LlmProxyConfig?> GetAsync(CancellationToken cancellationToken)
    {
        PluginStoreValue<LlmProxyConfig>? stored;
        try
        {
            stored = await Store.GetJsonAsync(Key, LlmProxyJsonContext.Default.LlmProxyConfig, cancellationToken);
        }
        catch (PluginStoreFormatException ex)
        {
            LogRejectedOnce(0, ex.Message);
            return null;
        }

        if (stored is null)
        {
            return null;
        }

        var reason = stored.Value is null ? "it is empty" : Check(stored.Value);
        if (reason is not null)
        {
            LogRejectedOnce(stored.Version, reason);
            return null;
        }

        return stored.Value;
    }

    /// <summary>Saves a new configuration; every replica reads it from its next request on.</summary>
    /// <param name="config">The new configuration (checked by the caller with <see cref="Check"/>).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes once the store acknowledged the write.</returns>
    /// <exception cref="PluginStoreUnavailableException">The store's backend cannot be reached.</exception>
    public async Task SaveAsync(LlmProxyConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        await Store.SetJsonAsync(Key, config, LlmProxyJsonContext.Default.LlmProxyConfig, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Imports the <c>config.json</c> of an earlier version, if there is one: narrowed to <c>0600</c> first on Unix,
    /// read through <see cref="SafePath.OpenRead"/>, written to the store only if it holds no configuration yet, then
    /// renamed to <c>config.json.migrated</c>. A file that cannot be read or holds values <c>POST /config</c> would
    /// refuse is logged and left where it is; so is the file when the store cannot be reached (imported next start).
    /// </summary>
    /// <param name="cancellationToken">Cancels the import.</param>
    /// <returns>A task that completes when the import is done or given up.</returns>
    public async Task ImportLegacyFileAsync(CancellationToken cancellationToken)
    {
        LlmProxyConfig? config;
        try
        {
            if (!File.Exists(LegacyPath))
            {
                return;
            }

            NarrowToOwner(LegacyPath);
            using var stream = SafePath.OpenRead(FolderPath, LegacyFileName);
            config = JsonSerializer.Deserialize(stream, LlmProxyJsonContext.Default.LlmProxyConfig);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            LlmProxyLog.LoadFailed(_logger, LegacyPath, ex.Message, ex);
            return;
        }

        var reason = config is null ? "it is empty" : Check(config);
        if (reason is not null)
        {
            LlmProxyLog.LoadRejected(_logger, LegacyPath, reason);
            return;
        }

        try
        {
            var result = await Store.CompareAndSetJsonAsync(Key, 0, config!, LlmProxyJsonContext.Default.LlmProxyConfig, cancellationToken: cancellationToken);
            File.Move(LegacyPath, Path.Combine(FolderPath, MigratedFileName), overwrite: true);
            if (result.Won)
            {
                LlmProxyLog.Imported(_logger, LegacyPath, MigratedFileName);
            }
            else
            {
                LlmProxyLog.ImportSkipped(_logger, LegacyPath, MigratedFileName);
            }
        }
        catch (Exception ex) when (ex is PluginStoreUnavailableException or IOException or UnauthorizedAccessException)
        {
            LlmProxyLog.ImportFailed(_logger, LegacyPath, ex.Message, ex);
        }
    }

    /// <summary>Returns why a configuration is refused (the rules of <c>POST /config</c>), or <see langword="null"/>.</summary>
    /// <param name="config">The configuration.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    public static string? Check(LlmProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (string.IsNullOrWhiteSpace(config.ApiUrl) || string.IsNullOrWhiteSpace(config.ApiKey) || string.IsNullOrWhiteSpace(config.Model))
        {
            return "Missing required fields: apiUrl, apiKey, model";
        }

        var reason = RequestValidation.CheckText("apiUrl", config.ApiUrl, asciiToken: false)
            ?? RequestValidation.CheckText("apiKey", config.ApiKey, asciiToken: true)
            ?? RequestValidation.CheckText("model", config.Model, asciiToken: false);
        if (reason is not null)
        {
            return reason;
        }

        return Uri.TryCreate(config.ApiUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? null
            : "apiUrl must be an absolute http or https URL";
    }

    // A config.json written by an older version (0644) holds the key readable by every local user: make it 0600.
    private static void NarrowToOwner(string path)
    {
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~SafePath.OwnerOnlyFileMode & ~UnixFileMode.UserExecute) != 0)
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) & SafePath.OwnerOnlyFileMode);
        }
    }

    // Every request reads the store: a bad stored value is logged once, not once per request.
    private void LogRejectedOnce(long version, string reason)
    {
        var rejection = $"{version}:{reason}";
        if (!string.Equals(Interlocked.Exchange(ref _lastRejection, rejection), rejection, StringComparison.Ordinal))
        {
            LlmProxyLog.StoredRejected(_logger, Key, reason);
        }
    }
}
