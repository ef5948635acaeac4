@{
    RootModule           = 'Bms2Intune.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '8ece9739-b7da-4a74-9147-031718fcbc1d'
    Author               = 'bms2intune contributors'
    CompanyName          = 'bms2intune'
    Copyright            = '(c) bms2intune contributors. MIT License.'
    Description          = 'Move a Microsoft 365 tenant from Basic Mobility and Security (BMS) to Microsoft Intune: import, readiness, policy conversion, wave planning and migration, driven by the bms2intune binary.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('Bms2Intune.Format.ps1xml')
    FunctionsToExport    = @(
        'Connect-BmsGraph'
        'ConvertTo-BmsIntunePolicy'
        'Export-BmsDevicePolicy'
        'Export-BmsWavePlan'
        'Get-BmsMigrationStatus'
        'Import-BmsTenantData'
        'Invoke-BmsMigrationStep'
        'Invoke-BmsMigrationWave'
        'New-BmsMigrationReport'
        'New-BmsWavePlan'
        'Test-BmsMigrationReadiness'
    )
    CmdletsToExport      = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Intune', 'BasicMobilitySecurity', 'BMS', 'Migration', 'Microsoft365', 'MDM')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ProtocolVersion = '1'
        }
    }
}
