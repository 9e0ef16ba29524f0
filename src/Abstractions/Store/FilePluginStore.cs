using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Compose.Store;

/// <summary>
/// The embedded <see cref="IPluginStore"/> for one machine: one file per entry in <c>.store/</c> under the plugin's
/// data directory, named by the SHA-256 of the key (so a key never becomes a path), replaced atomically and
/// owner-only on Unix through <see cref="SafePath"/>.
/// </summary>
/// <remarks>
/// Writes of one store are serialized in process, which makes compare-and-set exact within one host process; two
/// processes must not share one data directory (use a shared backend such as <c>Compose.PostgreSql</c> for that).
/// <see cref="ListKeysAsync"/> reads every entry's header: it costs one file open per entry.
/// </remarks>
public sealed class FilePluginStore : IPluginStore
{
    private const string Folder = ".store";
    private const int HeaderBytes = 4 + 8 + 8 + 4;
    private static readonly byte[] Magic = "CPS1"u8.ToArray();
    private static readonly UTF8Encoding Utf8 = new(false, true);

    private readonly string _root;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly TimeProvider _time;
    private long _lastVersion;

    /// <summary>Creates the store of one plugin.</summary>
    /// <param name="pluginId">The plugin's id.</param>
    /// <param name="dataDirectory">The plugin's data directory (an absolute path); entries go to its <c>.store</c> folder.</param>
    /// <param name="timeProvider">The clock for expiry; default <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="dataDirectory"/> is not absolute.</exception>
    public FilePluginStore(string pluginId, string dataDirectory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pluginId);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        if (!Path.IsPathFullyQualified(dataDirectory))
        {
            throw new ArgumentException("The data directory must be an absolute path.", nameof(dataDirectory));
        }

        PluginId = pluginId;
        _root = dataDirectory;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public string PluginId { get; }

    /// <inheritdoc />
    public ValueTask<PluginStoreEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(key, withValue: true));
    }

    /// <inheritdoc />
    public async ValueTask<long> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default)
    {
        Validate(key, value, expiresAfter);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = Read(key, withValue: false);
            return await WriteAsync(key, value, expiresAfter, previous?.Version ?? 0, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<PluginStoreWriteResult> CompareAndSetAsync(string key, long expectedVersion, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default)
    {
        Validate(key, value, expiresAfter);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = Read(key, withValue: false)?.Version ?? 0;
            if (current != expectedVersion)
            {
                return new PluginStoreWriteResult(false, current);
            }

            return new PluginStoreWriteResult(true, await WriteAsync(key, value, expiresAfter, current, cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidateKey(key);
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var existed = Read(key, withValue: false) is not null;
            if (existed)
            {
                File.Delete(SafePath.Resolve(_root, EntryPath(key)));
            }

            return existed;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ListKeysAsync(string prefix = "", int limit = 1000, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidatePrefix(prefix);
        PluginStoreLimits.ValidateListLimit(limit);
        var folder = Path.Combine(_root, Folder);
        var keys = new List<string>();
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.entry"))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var entry = ReadFile(Folder + "/" + Path.GetFileName(file), expectedKey: null, withValue: false);
                if (entry is not null && entry.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    keys.Add(entry.Key);
                }
            }
        }

        keys.Sort(StringComparer.Ordinal);
        IReadOnlyList<string> result = keys.Count > limit ? keys.GetRange(0, limit) : keys;
        return ValueTask.FromResult(result);
    }

    private static void Validate(string key, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter)
    {
        PluginStoreLimits.ValidateKey(key);
        PluginStoreLimits.ValidateValue(value);
        PluginStoreLimits.ValidateExpiry(expiresAfter);
    }

    private static string EntryPath(string key)
        => Folder + "/" + Convert.ToHexString(SHA256.HashData(Utf8.GetBytes(key))).ToLowerInvariant() + ".entry";

    private async Task<long> WriteAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter, long previousVersion, CancellationToken cancellationToken)
    {
        // Versions only grow, across deletes and restarts too (seeded from the clock), so a stale compare-and-set never wins.
        var version = Math.Max(Math.Max(_lastVersion, previousVersion) + 1, _time.GetUtcNow().UtcTicks);
        _lastVersion = version;
        var expiresAt = expiresAfter is { } span ? _time.GetUtcNow().Add(span).ToUnixTimeMilliseconds() : 0;
        var keyBytes = Utf8.GetBytes(key);
        var buffer = new byte[HeaderBytes + keyBytes.Length + value.Length];
        Magic.CopyTo(buffer, 0);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(4), version);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(12), expiresAt);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(20), keyBytes.Length);
        keyBytes.CopyTo(buffer, HeaderBytes);
        value.Span.CopyTo(buffer.AsSpan(HeaderBytes + keyBytes.Length));
        await SafePath.WriteAllBytesAtomicAsync(_root, EntryPath(key), buffer, cancellationToken).ConfigureAwait(false);
        return version;
    }

    private PluginStoreEntry? Read(string key, bool withValue) => ReadFile(EntryPath(key), key, withValue);

    private PluginStoreEntry? ReadFile(string relativePath, string? expectedKey, bool withValue)
    {
        byte[] bytes;
        try
        {
            using var stream = SafePath.OpenRead(_root, relativePath);
            if (withValue)
            {
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            else
            {
                var header = new byte[HeaderBytes + PluginStoreLimits.MaxKeyBytes];
                var read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
                bytes = header.AsSpan(0, read).ToArray();
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new IOException($"The store entry file '{relativePath}' of plugin '{PluginId}' is damaged (no entry header).");
        }

        var version = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(4));
        var expiresAt = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(12));
        var keyLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20));
        if (keyLength <= 0 || keyLength > PluginStoreLimits.MaxKeyBytes || HeaderBytes + keyLength > bytes.Length)
        {
            throw new IOException($"The store entry file '{relativePath}' of plugin '{PluginId}' is damaged (bad key length).");
        }

        var key = Utf8.GetString(bytes, HeaderBytes, keyLength);
        if (expectedKey is not null && !string.Equals(key, expectedKey, StringComparison.Ordinal))
        {
            throw new IOException($"The store entry file '{relativePath}' of plugin '{PluginId}' holds another key.");
        }

        if (expiresAt != 0 && expiresAt <= _time.GetUtcNow().ToUnixTimeMilliseconds())
        {
            return null;
        }

        var value = withValue ? bytes.AsMemory(HeaderBytes + keyLength) : ReadOnlyMemory<byte>.Empty;
        return new PluginStoreEntry(key, value, version, expiresAt == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(expiresAt));
    }
}
