using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Compose.Store;

/// <summary>
/// JSON values in an <see cref="IPluginStore"/>, through source-generated <see cref="JsonTypeInfo{T}"/> (no reflection,
/// so they work under Native AOT and trimming).
/// </summary>
public static class PluginStoreJsonExtensions
{
    /// <summary>Reads an entry and deserializes its value.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="store">The store.</param>
    /// <param name="key">The key.</param>
    /// <param name="typeInfo">The type's metadata, e.g. <c>MyJsonContext.Default.MyConfig</c>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The value and its version, or <see langword="null"/> when the key has no entry.</returns>
    /// <exception cref="PluginStoreFormatException">The stored value is not JSON of <typeparamref name="T"/>.</exception>
    /// <exception cref="ArgumentException">The key breaks a limit.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    public static async ValueTask<PluginStoreValue<T>?> GetJsonAsync<T>(this IPluginStore store, string key, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(typeInfo);
        var entry = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return null;
        }

        try
        {
            var value = JsonSerializer.Deserialize(entry.Value.Span, typeInfo);
            return new PluginStoreValue<T>(value!, entry.Version, entry.ExpiresAt);
        }
        catch (JsonException ex)
        {
            throw new PluginStoreFormatException(
                $"The value of key '{key}' in the store of plugin '{store.PluginId}' is not JSON of {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    /// <summary>Serializes a value and writes it.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="store">The store.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">The type's metadata.</param>
    /// <param name="expiresAfter">How long the entry lives; <see langword="null"/> for ever.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The entry's new version.</returns>
    /// <exception cref="ArgumentException">The key or the serialized value breaks a limit.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    public static ValueTask<long> SetJsonAsync<T>(this IPluginStore store, string key, T value, JsonTypeInfo<T> typeInfo, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return store.SetAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), expiresAfter, cancellationToken);
    }

    /// <summary>Serializes a value and writes it only if the entry's version is still <paramref name="expectedVersion"/> (<c>0</c>: absent).</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="store">The store.</param>
    /// <param name="key">The key.</param>
    /// <param name="expectedVersion">The version read before, or <c>0</c>.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">The type's metadata.</param>
    /// <param name="expiresAfter">How long the entry lives; <see langword="null"/> for ever.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether it won, and the version now current.</returns>
    /// <exception cref="ArgumentException">The key or the serialized value breaks a limit.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    public static ValueTask<PluginStoreWriteResult> CompareAndSetJsonAsync<T>(this IPluginStore store, string key, long expectedVersion, T value, JsonTypeInfo<T> typeInfo, TimeSpan? expiresAfter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return store.CompareAndSetAsync(key, expectedVersion, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), expiresAfter, cancellationToken);
    }
}

/// <summary>A deserialized store value with its version.</summary>
/// <typeparam name="T">The value's type.</typeparam>
/// <param name="Value">The value.</param>
/// <param name="Version">The entry's version, for compare-and-set.</param>
/// <param name="ExpiresAt">When the entry expires, or <see langword="null"/> if never.</param>
public sealed record PluginStoreValue<T>(T Value, long Version, DateTimeOffset? ExpiresAt);

/// <summary>Thrown when a stored value does not deserialize to the type asked for.</summary>
public sealed class PluginStoreFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The key, the plugin and the JSON error.</param>
    /// <param name="innerException">The <see cref="JsonException"/>.</param>
    public PluginStoreFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public PluginStoreFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PluginStoreFormatException()
    {
    }
}
