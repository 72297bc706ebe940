// SayZhong on Azure Container Apps (issue 16). Not validated by the Bicep CLI here (it cannot be
// installed offline); see docs/runbooks/deploy.md for the commands that deploy it.
//
// Web app: HTTP + connection-based scale rules (websockets hold connections, so concurrency counts
// them), revisions in multiple mode for canary and rollback. Jobs app: exactly one replica.
// Migration job: runs `alembic upgrade head` with the new image before traffic moves.
// PostgreSQL Flexible Server (zone-redundant HA, PITR), Azure Cache for Redis, Key Vault secrets,
// Log Analytics (console logs = our JSON logs and the security event stream), storage with a
// lifecycle rule moving takes to cool storage after 30 days.

targetScope = 'resourceGroup'

param location string = resourceGroup().location
param appUrl string
param imageRepository string
param imageTag string
@minValue(0)
@maxValue(100)
@description('Traffic share of the new revision (canary); 100 promotes it.')
param canaryPercent int = 100
@description('Revision suffix of the version serving now (e.g. v1-4-2): it keeps the rest of the traffic during a canary.')
param stableRevisionSuffix string = ''
param minReplicas int = 2
param maxReplicas int = 10
param postgresAdminLogin string
@secure()
param postgresAdminPassword string = newGuid()

var prefix = 'sayzhong'
var image = '${imageRepository}:${imageTag}'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: '${prefix}-kv-${uniqueString(resourceGroup().id)}'
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
  }
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-identity'
  location: location
}

// The apps read secrets from Key Vault with their managed identity (Key Vault Secrets User).
resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, 'secrets-user')
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2023-12-01-preview' = {
  name: '${prefix}-pg-${uniqueString(resourceGroup().id)}'
  location: location
  sku: { name: 'Standard_D2ds_v5', tier: 'GeneralPurpose' }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 64, autoGrow: 'Enabled' }
    backup: { backupRetentionDays: 35, geoRedundantBackup: 'Enabled' }
    highAvailability: { mode: 'ZoneRedundant' }
  }
}

resource redis 'Microsoft.Cache/redis@2024-03-01' = {
  name: '${prefix}-redis-${uniqueString(resourceGroup().id)}'
  location: location
  properties: {
    sku: { name: 'Standard', family: 'C', capacity: 1 }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    // Reflex waits for (and breaks) state locks through keyspace notifications. Azure refuses CONFIG
    // SET, so they are switched on here, and REFLEX_IGNORE_REDIS_CONFIG_ERROR lets Reflex start.
    // volatile-lru (Azure's default, stated): only keys with a TTL (Reflex's tab states) may be
    // evicted, never the guard cache's generation counters (sayzhong/guard_cache.py).
    redisConfiguration: { 'notify-keyspace-events': 'K$sgxe', 'maxmemory-policy': 'volatile-lru' }
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: '${prefix}st${uniqueString(resourceGroup().id)}'
  location: location
  sku: { name: 'Standard_ZRS' }
  kind: 'StorageV2'
  properties: { minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource dataShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: 'data'
  properties: { shareQuota: 1024 }
}

resource backupShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: 'backups'
  properties: { shareQuota: 1024 }
}

// Stored takes: cool tier after 30 days (blob copies of the audio archive), deleted after the retention.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'takes-to-cool-after-30-days'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: [ 'blockBlob' ], prefixMatch: [ 'attempts/' ] }
            actions: { baseBlob: { tierToCool: { daysAfterModificationGreaterThan: 30 }, delete: { daysAfterModificationGreaterThan: 730 } } }
          }
        }
      ]
    }
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${prefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
    zoneRedundant: true
  }
}

resource dataStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'data'
  properties: {
    azureFile: { accountName: storage.name, accountKey: storage.listKeys().keys[0].value, shareName: dataShare.name, accessMode: 'ReadWrite' }
  }
}

resource backupStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'backups'
  properties: {
    azureFile: { accountName: storage.name, accountKey: storage.listKeys().keys[0].value, shareName: backupShare.name, accessMode: 'ReadWrite' }
  }
}

var secretNames = [ 'secret-key', 'database-url', 'redis-url', 'smtp-password', 'azure-speech-key', 'metrics-token', 'backup-encryption-key' ]
var secrets = [for name in secretNames: {
  name: name
  keyVaultUrl: '${vault.properties.vaultUri}secrets/${name}'
  identity: identity.id
}]
var env = [
  { name: 'ENV', value: 'prod' }
  { name: 'APP_URL', value: appUrl }
  { name: 'DATA_DIR', value: '/data' }
  { name: 'BACKUP_DIR', value: '/backups' }
  { name: 'LOG_FORMAT', value: 'json' }
  { name: 'SECRET_KEY', secretRef: 'secret-key' }
  { name: 'DATABASE_URL', secretRef: 'database-url' }
  { name: 'REDIS_URL', secretRef: 'redis-url' }
  { name: 'REFLEX_IGNORE_REDIS_CONFIG_ERROR', value: 'true' }
  { name: 'SMTP_PASSWORD', secretRef: 'smtp-password' }
  { name: 'AZURE_SPEECH_KEY', secretRef: 'azure-speech-key' }
  { name: 'METRICS_TOKEN', secretRef: 'metrics-token' }
  { name: 'BACKUP_ENCRYPTION_KEY', secretRef: 'backup-encryption-key' }
]
var volumes = [
  { name: 'data', storageName: dataStorage.name, storageType: 'AzureFile' }
  { name: 'backups', storageName: backupStorage.name, storageType: 'AzureFile' }
]
var mounts = [
  { volumeName: 'data', mountPath: '/data' }
  { volumeName: 'backups', mountPath: '/backups' }
]

resource migrate 'Microsoft.App/jobs@2024-03-01' = {
  name: '${prefix}-migrate'
  location: location
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }
  properties: {
    environmentId: environment.id
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 1800
      replicaRetryLimit: 0
      manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 }
      secrets: secrets
    }
    template: {
      containers: [ {
        name: 'migrate'
        image: image
        command: [ 'alembic', 'upgrade', 'head' ]
        env: env
        resources: { cpu: json('0.5'), memory: '1Gi' }
      } ]
    }
  }
}

resource web 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${prefix}-web'
  location: location
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }
  properties: {
    environmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Multiple'
      secrets: secrets
      ingress: {
        external: true
        targetPort: 3000
        transport: 'auto'
        stickySessions: { affinity: 'sticky' }
        traffic: canaryPercent == 100 ? [ { latestRevision: true, weight: 100 } ] : [
          { latestRevision: true, weight: canaryPercent }
          { revisionName: '${prefix}-web--${stableRevisionSuffix}', weight: 100 - canaryPercent }
        ]
      }
    }
    template: {
      revisionSuffix: 'v${replace(imageTag, '.', '-')}'
      terminationGracePeriodSeconds: 30
      containers: [ {
        name: 'web'
        image: image
        env: concat(env, [ { name: 'GRANIAN_WORKERS', value: '3' } ])
        resources: { cpu: json('1.0'), memory: '2Gi' }
        volumeMounts: mounts
        probes: [
          { type: 'Liveness', httpGet: { path: '/healthz', port: 3000 }, periodSeconds: 10 }
          { type: 'Readiness', httpGet: { path: '/readyz', port: 3000 }, periodSeconds: 5 }
          { type: 'Startup', httpGet: { path: '/healthz', port: 3000 }, failureThreshold: 30, periodSeconds: 5 }
        ]
      } ]
      volumes: volumes
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          // Requests in flight per replica (uploads, page loads).
          { name: 'http', http: { metadata: { concurrentRequests: '60' } } }
          // Websockets: open connections per replica (each tab holds one).
          { name: 'connections', tcp: { metadata: { concurrentConnections: '400' } } }
        ]
      }
    }
  }
  dependsOn: [ migrate, vaultReader ]
}

resource jobs 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${prefix}-jobs'
  location: location
  identity: { type: 'UserAssigned', userAssignedIdentities: { '${identity.id}': {} } }
  properties: {
    environmentId: environment.id
    configuration: { activeRevisionsMode: 'Single', secrets: secrets }
    template: {
      containers: [ {
        name: 'jobs'
        image: image
        command: [ 'python', '-m', 'jobs' ]
        env: concat(env, [ { name: 'JOBS_METRICS_PORT', value: '9108' } ])
        resources: { cpu: json('0.5'), memory: '1Gi' }
        volumeMounts: mounts
      } ]
      volumes: volumes
      // Exactly one scheduler: never 0 (jobs would not run), never 2 (they would run twice).
      scale: { minReplicas: 1, maxReplicas: 1 }
    }
  }
  dependsOn: [ migrate, vaultReader ]
}

output webRevisionSuffix string = 'v${replace(imageTag, '.', '-')}'
output webUrl string = 'https://${web.properties.configuration.ingress.fqdn}'
output keyVaultName string = vault.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
output redisHost string = redis.properties.hostName
