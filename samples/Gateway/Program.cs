// The sample gateway: one address in front of several Compose hosts. Which host serves which plugin comes from the
// hosts' own catalogs (Compose:Gateway:Hosts:{name}:Addresses); see docs/gateway.md for a three-process walkthrough.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddServerPluginGateway(builder.Configuration);

var app = builder.Build();
app.UseWebSockets(); // lets YARP tunnel the ticker plugin's /echo WebSocket
app.MapServerPluginGateway(); // /api/plugins/{id}/... and /plugins/{id}/... to the host composing {id}; GET /api/plugins: the gateway catalog
app.MapHealthChecks("/health"); // Degraded when a host is down
app.Run();
