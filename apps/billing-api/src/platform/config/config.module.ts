import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config.js';
import { validateEnvironment } from './environment.js';

/**
 * Loads `.env` (when present) and the process environment through @nestjs/config, validates every
 * variable once at start-up (R-ARCH-6) and exposes the typed {@link AppConfig}.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(overrides: Record<string, string> = {}): DynamicModule {
    let config: AppConfig | undefined;
    const nestConfig = NestConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      ignoreEnvFile: process.env.NODE_ENV === 'test',
      envFilePath: ['.env'],
      validate: (raw) => {
        const env = validateEnvironment({ ...raw, ...overrides });
        config = new AppConfig(env);
        return { ...env };
      },
    });
    return {
      module: ConfigModule,
      imports: [nestConfig],
      providers: [
        {
          provide: AppConfig,
          useFactory: (): AppConfig => {
            if (!config) throw new Error('Configuration was not validated');
            return config;
          },
        },
      ],
      exports: [AppConfig],
    };
  }
}
