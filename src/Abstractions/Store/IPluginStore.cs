namespace Compose.Store;

/// <summary>
/// A plugin's own key-value store, shared by every replica of the host when a shared backend is configured
/// (<c>Compose.PostgreSql</c>), and kept in files under the plugin's data directory otherwise. Reach it through
/// <see cref="IServerPluginContext.Store"/>.
/// </summary>
/// <remarks>
/// <para>
/// Keys are namespaced by plugin id: the same key in two plugins names two entries, and no key reaches another
/// plugin's entries. A key is 1 to <see cref="PluginStoreLimits.MaxKeyBytes"/> bytes of UTF-8 without control
/// characters (NUL included); <c>/</c> and <c>..</c> are ordinary characters (a key never becomes a path). A value
/// holds up to <see cref="PluginStoreLimits.MaxValueBytes"/> bytes. Breaking a limit throws
/// <see cref="ArgumentException"/> before anything is written.
/// </para>
/// <para>
/// Every write gives the entry a new <see cref="PluginStoreEntry.Version"/> (greater than any earlier version of the
/// same key); <see cref="CompareAndSetAsync"/> writes only when the version is still the one the caller read.
/// An entry past its expiry is gone: reads, listings and compare-and-set treat it as absent.
/// </para>
/// <para>
/// A backend that cannot be reached throws <see cref="PluginStoreUnavailableException"/> once its bounded retries
/// are spent; a call that threw it may or may not have been applied, one that returned was.
/// </para>
/// </remarks>
public interface IPluginStore
{
    /// <summary>Gets the id of the plugin whose entries this store holds.</summary>
    string PluginId { get; }

    /// <summary>Reads an entry.</summary>
    /// <param name="key">The key (see the limits above).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entry, or <see langword="null"/> when the key has none (or it expired).</returns>
    /// <exception cref="ArgumentException">The key breaks a limit.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    ValueTask<PluginStoreEntry?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Writes an entry, replacing any earlier value.</summary>
    /// <param name="key">The key (see the limits above).</param>
    /// <param name="value">The value, up to <see cref="PluginStoreLimits.MaxValueBytes"/> bytes.</param>
    /// <param name="expiresAfter">How long the entry lives; <see langword="null"/> (the default) for ever. At least one millisecond.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The entry's new version.</returns>
    /// <exception cref="ArgumentException">The key or value breaks a limit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expiresAfter"/> is zero, negative or above <see cref="PluginStoreLimits.MaxExpiry"/>.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    ValueTask<long> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes an entry only if its current version is <paramref name="expectedVersion"/>; pass <c>0</c> to write
    /// only if the key has no entry. Exactly one of several concurrent calls with the same expected version wins.
    /// </summary>
    /// <param name="key">The key (see the limits above).</param>
    /// <param name="expectedVersion">The version read before (<see cref="PluginStoreEntry.Version"/>), or <c>0</c> for "absent".</param>
    /// <param name="value">The new value.</param>
    /// <param name="expiresAfter">How long the new entry lives; <see langword="null"/> for ever.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether it won, and the version now current (the new one when it won; <c>0</c> when the key has no entry).</returns>
    /// <exception cref="ArgumentException">The key or value breaks a limit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expectedVersion"/> is negative, or <paramref name="expiresAfter"/> is out of range.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    ValueTask<PluginStoreWriteResult> CompareAndSetAsync(string key, long expectedVersion, ReadOnlyMemory<byte> value, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes an entry.</summary>
    /// <param name="key">The key (see the limits above).</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>Whether an entry was deleted.</returns>
    /// <exception cref="ArgumentException">The key breaks a limit.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Lists the plugin's keys that start with <paramref name="prefix"/>, in ordinal order.</summary>
    /// <param name="prefix">The prefix; empty for every key.</param>
    /// <param name="limit">The most keys returned, 1 to <see cref="PluginStoreLimits.MaxListLimit"/>; default 1000.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The keys, at most <paramref name="limit"/>.</returns>
    /// <exception cref="ArgumentException">The prefix is longer than a key may be or holds a control character.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is out of range.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    ValueTask<IReadOnlyList<string>> ListKeysAsync(string prefix = "", int limit = 1000, CancellationToken cancellationToken = default);
}

/// <summary>One entry of an <see cref="IPluginStore"/>.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
/// <param name="Version">The entry's version, for <see cref="IPluginStore.CompareAndSetAsync"/>; always positive.</param>
/// <param name="ExpiresAt">When the entry expires, or <see langword="null"/> if never.</param>
public sealed record PluginStoreEntry(string Key, ReadOnlyMemory<byte> Value, long Version, DateTimeOffset? ExpiresAt);

/// <summary>The outcome of <see cref="IPluginStore.CompareAndSetAsync"/>.</summary>
/// <param name="Won">Whether the write happened.</param>
/// <param name="Version">The version now current: the new one when <paramref name="Won"/>; otherwise the one that beat the caller (<c>0</c>: no entry).</param>
public readonly record struct PluginStoreWriteResult(bool Won, long Version);

/// <summary>Thrown when a store or cluster-event backend cannot be reached once its bounded retries are spent.</summary>
public sealed class PluginStoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the plugin and the operation.</param>
    /// <param name="innerException">The backend's last error.</param>
    public PluginStoreUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public PluginStoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PluginStoreUnavailableException()
    {
    }
}
