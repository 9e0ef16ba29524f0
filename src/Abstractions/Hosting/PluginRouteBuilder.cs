using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Compose.Hosting;

/// <summary>
/// The router a plugin receives in <see cref="IServerPlugin.InitAsync"/>: its route group, closed to new routes
/// once the synchronous part of <c>InitAsync</c> has returned (Luker's "Register Routes Synchronously").
/// Every <c>Map*</c> extension reaches <see cref="DataSources"/>, so a late registration fails there, naming the plugin.
/// </summary>
internal sealed class PluginRouteBuilder(IEndpointRouteBuilder group, ServerPluginDescriptor descriptor) : IEndpointRouteBuilder
{
    private volatile bool _closed;

    public IServiceProvider ServiceProvider => group.ServiceProvider;

    public ICollection<EndpointDataSource> DataSources
    {
        get
        {
            ThrowIfClosed();
            return group.DataSources;
        }
    }

    public IApplicationBuilder CreateApplicationBuilder()
    {
        ThrowIfClosed();
        return group.CreateApplicationBuilder();
    }

    public void Close() => _closed = true;

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new InvalidOperationException(
                $"Server plugin '{descriptor.Id}' ({descriptor.PluginType.FullName}) registered a route after its InitAsync returned. " +
                "Register every route synchronously, before the first await in InitAsync, and do the asynchronous work after.");
        }
    }
}
